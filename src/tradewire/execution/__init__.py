"""tradewire.execution"""
