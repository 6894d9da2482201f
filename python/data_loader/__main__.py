"""``python -m data_loader ...``: the same as ``python -m data_loader.main ...``."""

from data_loader.main import main

main()
