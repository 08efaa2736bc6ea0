"""tradewire.data"""
