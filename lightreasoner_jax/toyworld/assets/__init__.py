"""The shipped toy world: trained expert and amateur HF checkpoints and world.json (how they were built)."""

from pathlib import Path

ASSETS_DIR = Path(__file__).parent
EXPERT_PATH = ASSETS_DIR / 'expert'
AMATEUR_PATH = ASSETS_DIR / 'amateur'
WORLD_FILE = ASSETS_DIR / 'world.json'
