"""The demo: the whole story played by people in the emulator (``python -m demo``)."""
