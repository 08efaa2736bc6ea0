"""tradewire.node"""
