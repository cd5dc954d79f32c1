"""Indicators across communes for the consultancy, from aggregates only: counts per commune
computed in the database, each cell of people shown only from 10 up."""
