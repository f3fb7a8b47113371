"""The matching service: connects a territory's needs with the diaspora's offers, and explains why."""
