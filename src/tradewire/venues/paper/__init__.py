"""tradewire.venues.paper"""
