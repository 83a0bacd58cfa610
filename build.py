#!/usr/bin/env python3
"""Thin entry point: `python build.py ARGS` does exactly what `devcasts ARGS` does."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from devcasts.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
