"""The shipped toy worlds: each world's trained expert and amateur HF checkpoints and world.json (how they
were built). The clean world lives at the top (its historical place), the habit world in habits/."""

from pathlib import Path

ASSETS_DIR = Path(__file__).parent
EXPERT_PATH = ASSETS_DIR / 'expert'
AMATEUR_PATH = ASSETS_DIR / 'amateur'
WORLD_FILE = ASSETS_DIR / 'world.json'

WORLD_DIRS = {'clean': ASSETS_DIR, 'habits': ASSETS_DIR / 'habits'}


def world_dir(world: str) -> Path:
    return WORLD_DIRS[world]


def model_path(world: str, name: str) -> Path:
    """The shipped 'expert' or 'amateur' of `world`."""
    return WORLD_DIRS[world] / name
