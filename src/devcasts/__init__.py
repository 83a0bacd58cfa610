"""devcasts: turn a list of podcast feeds into a browsable, searchable static archive."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/devcasts/devcasts"
USER_AGENT = f"devcasts/{__version__} (+{PROJECT_URL})"
