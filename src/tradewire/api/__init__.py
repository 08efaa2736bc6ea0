"""tradewire.api"""
