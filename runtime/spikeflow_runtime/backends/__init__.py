"""Device back ends of the runtime, one class per platform: pynq (Zynq DMA), alveo (XRT), replay (recorded)."""
