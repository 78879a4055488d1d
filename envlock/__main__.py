from envlock.cli import entry

entry()
