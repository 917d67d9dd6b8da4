"""Where the repository and the real sequences (read in place, never copied) are."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REAL_DATA = REPO.parent / "shared" / "data" / "real"
PEER_MODELS = REPO.parent / "shared" / "models" / "peers"
