"""Hardware-level facts shared by every back end: boards and parts, folding, cycle estimates, the stream format."""
