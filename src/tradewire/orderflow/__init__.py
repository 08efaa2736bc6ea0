"""tradewire.orderflow"""
