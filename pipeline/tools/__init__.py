"""Generic helpers that know no township: workbooks in the house style (xlsx, with its
streaming engine), SVG charts, two processes at once (parallel), cheaper DataFrames, the
Chinese date."""
