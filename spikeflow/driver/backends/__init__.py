"""Driver back ends, one class per platform: golden, rtlsim, pynq (Zynq), alveo (XRT)."""
