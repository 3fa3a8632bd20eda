"""Read models built from the tenants' notification logs (the read-side issue fills this in)."""
