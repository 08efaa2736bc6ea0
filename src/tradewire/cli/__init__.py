"""tradewire.cli"""
