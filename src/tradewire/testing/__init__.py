"""Test helpers that ship with tradewire: local servers speaking real venue protocols on 127.0.0.1."""
