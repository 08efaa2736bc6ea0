"""tradewire.portfolio"""
