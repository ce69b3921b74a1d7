// Cycle-accurate Verilator harness of a generated spikeflow_top: feeds frames as fast as s_axis accepts
// them, always ready on m_axis, and records every output value and the cycle each frame's TLAST left.
//
// usage: spikeflow_harness FRAMES.bin N BEAT_BYTES BEATS_PER_FRAME VALUES_PER_FRAME OUT.bin
//   FRAMES.bin  N frames of BEAT_BYTES*BEATS_PER_FRAME bytes, already in stream order
//   OUT.bin     int32 values [N*VALUES_PER_FRAME] then int64 done cycles [N]
// prints "cycles C values V seconds S cpu_seconds P" (wall and CPU time of the simulation loop)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <vector>

#include "Vspikeflow_top.h"
#include "verilated.h"

static void set_bytes(CData& port, const uint8_t* b, int n) { port = n > 0 ? b[0] : 0; }
static void set_bytes(SData& port, const uint8_t* b, int n) {
    port = 0;
    for (int i = 0; i < n; i++) port |= static_cast<SData>(b[i]) << (8 * i);
}
static void set_bytes(IData& port, const uint8_t* b, int n) {
    port = 0;
    for (int i = 0; i < n; i++) port |= static_cast<IData>(b[i]) << (8 * i);
}
static void set_bytes(QData& port, const uint8_t* b, int n) {
    port = 0;
    for (int i = 0; i < n; i++) port |= static_cast<QData>(b[i]) << (8 * i);
}
template <std::size_t W>
static void set_bytes(VlWide<W>& port, const uint8_t* b, int n) {
    for (std::size_t w = 0; w < W; w++) port[w] = 0;
    for (int i = 0; i < n; i++) port[i / 4] |= static_cast<EData>(b[i]) << (8 * (i % 4));
}

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: %s FRAMES.bin N BEAT_BYTES BEATS_PER_FRAME VALUES_PER_FRAME OUT.bin\n", argv[0]);
        return 2;
    }
    const long n = std::atol(argv[2]);
    const int beat_bytes = std::atoi(argv[3]);
    const long beats = std::atol(argv[4]);
    const long values = std::atol(argv[5]);
    std::vector<uint8_t> frames(static_cast<size_t>(n * beats * beat_bytes));
    FILE* f = std::fopen(argv[1], "rb");
    if (!f || std::fread(frames.data(), 1, frames.size(), f) != frames.size()) {
        std::fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    std::fclose(f);

    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    auto top = std::make_unique<Vspikeflow_top>(ctx.get());
    std::vector<int32_t> out(static_cast<size_t>(n * values));
    std::vector<int64_t> done(static_cast<size_t>(n), -1);

    top->clk = 0;
    top->rst = 1;
    top->s_axis_tvalid = 0;
    top->m_axis_tready = 1;
    for (int i = 0; i < 4; i++) {
        top->clk = 1; top->eval();
        top->clk = 0; top->eval();
    }
    top->rst = 0;

    long beat = 0;  // next input beat over all frames
    long got = 0;   // output values received
    int64_t cycle = 0;
    const int64_t limit = 64 + (n + 4) * (beats * 64 + values * 64 + 100000);
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    while (got < n * values && cycle < limit) {
        const bool have = beat < n * beats;
        top->s_axis_tvalid = have;
        if (have) {
            set_bytes(top->s_axis_tdata, &frames[static_cast<size_t>(beat * beat_bytes)], beat_bytes);
            top->s_axis_tlast = (beat % beats) == beats - 1;
        }
        top->eval();
        const bool in_fire = have && top->s_axis_tready;
        const bool out_fire = top->m_axis_tvalid;
        if (out_fire) {
            out[static_cast<size_t>(got)] = static_cast<int32_t>(top->m_axis_tdata);
            if (top->m_axis_tlast) done[static_cast<size_t>(got / values)] = cycle;
            got++;
        }
        top->clk = 1; top->eval();
        top->clk = 0;  // evaluated with the next inputs at the top of the loop
        if (in_fire) beat++;
        cycle++;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu_secs = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    top->final();
    FILE* o = std::fopen(argv[6], "wb");
    if (!o) return 2;
    std::fwrite(out.data(), sizeof(int32_t), out.size(), o);
    std::fwrite(done.data(), sizeof(int64_t), done.size(), o);
    std::fclose(o);
    std::printf("cycles %lld values %ld seconds %.6f cpu_seconds %.6f\n", static_cast<long long>(cycle), got, secs,
                cpu_secs);
    return got == n * values ? 0 : 1;
}
