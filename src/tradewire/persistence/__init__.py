"""tradewire.persistence"""
