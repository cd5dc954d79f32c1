"""Quotes (devis) and invoices: a quote per commune from the programme's priced steps, its
milestone invoices issued through Stripe Invoicing and paid by bank transfer, and their
Factur-X copies for Chorus Pro."""
