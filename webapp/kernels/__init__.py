"""Live kernels: hosted by Jupyter Kernel Gateway, launched in Skillforge's grading sandbox."""
