"""Who may do what: roles from SEAWALL_CONFIG `access:`, checked wherever something changes."""
