"""tradewire.strategy"""
