"""tradewire.venues"""
