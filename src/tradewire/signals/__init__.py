"""tradewire.signals"""
