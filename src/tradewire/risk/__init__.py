"""tradewire.risk"""
