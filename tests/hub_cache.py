"""A pre-filled Hugging Face hub cache (the layout huggingface_hub writes), so hub ids resolve offline."""

import shutil

COMMIT = '0123456789abcdef0123456789abcdef01234567'


def add_to_hub_cache(cache_dir, repo_id: str, checkpoint_dir) -> None:
    repo = cache_dir / f'models--{repo_id.replace("/", "--")}'
    (repo / 'refs').mkdir(parents=True, exist_ok=True)
    (repo / 'refs' / 'main').write_text(COMMIT)
    shutil.copytree(checkpoint_dir, repo / 'snapshots' / COMMIT)
