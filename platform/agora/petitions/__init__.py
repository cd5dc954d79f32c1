"""Petitions and the right of interpellation: a resident opens a petition, signed-in
residents sign it once each, and crossing a threshold level of the commune's rules (from
its interpellation plugin, pinned when the petition opens) obliges the commune to a meeting,
an item on the council's agenda or a debate on a local referendum; staff record what the
mayor and the council did, and the answer is public."""
