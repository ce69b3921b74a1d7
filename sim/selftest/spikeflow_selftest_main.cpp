// Verilator main of the self-test top (rtl/spikeflow_selftest.v): clocks it from configuration (its power-on reset,
// rst held low) until led_busy falls, decodes its UART line (8N1, CLKS_PER_BIT cycles per bit) and prints it.
//
// usage: spikeflow_selftest_sim CLKS_PER_BIT MAX_CYCLES
// prints the bytes of the UART line as sent, then "sim_cycles C pass P fail F" on a line of its own.
// Exit status: 0 done, 1 not done within MAX_CYCLES, 3 a UART framing error (stop bit 0), 2 bad arguments.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "Vspikeflow_selftest.h"
#include "verilated.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s CLKS_PER_BIT MAX_CYCLES\n", argv[0]);
        return 2;
    }
    const int64_t clks_per_bit = std::atoll(argv[1]);
    const int64_t limit = std::atoll(argv[2]);
    if (clks_per_bit < 1) return 2;
    auto ctx = std::make_unique<VerilatedContext>();
    auto top = std::make_unique<Vspikeflow_selftest>(ctx.get());
    std::string line;
    int64_t start = -1;  // cycle of the current character's start bit; -1 while the line idles
    int byte = 0;
    int rc = 1;
    int64_t cycle = 0;
    top->rst = 0;
    top->clk = 0;
    top->eval();
    for (; cycle < limit; cycle++) {
        top->clk = 1;
        top->eval();
        top->clk = 0;
        top->eval();
        const int tx = top->uart_tx;
        if (start < 0) {
            if (!tx) start = cycle, byte = 0;
        } else {
            const int64_t t = cycle - start;
            if (t % clks_per_bit == clks_per_bit / 2) {  // the middle of bit t / clks_per_bit
                const int64_t bit = t / clks_per_bit;
                if (bit >= 1 && bit <= 8) byte |= tx << (bit - 1);
                if (bit == 9) {
                    if (!tx) { rc = 3; break; }
                    line.push_back(static_cast<char>(byte));
                    start = -1;
                }
            }
        }
        if (cycle > 16 && !top->led_busy && start < 0) { rc = 0; break; }
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::printf("sim_cycles %lld pass %d fail %d\n", static_cast<long long>(cycle), top->led_pass, top->led_fail);
    top->final();
    return rc;
}
