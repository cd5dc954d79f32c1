"""The consultancy's support programme: phases and sessions per commune, timelines, calendar."""
