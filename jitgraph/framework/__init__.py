"""The graph IR: ``Graph``, ``Operation``, ``Tensor``, shapes and devices."""
