"""HTTP controllers of the admin service, one per resource."""
