"""Tools that drive a running tracker node over DDS from another process: the player, the child
process helpers, the tracker client, the demo and node-bench logic, and `register` (the homography
from point pairs, printed as the node's parameter). They stand above `ros/` (the node itself)."""
