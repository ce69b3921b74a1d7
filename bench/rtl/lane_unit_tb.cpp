// Harness of bench/bitplane_speed.py: drives one lane unit (Verilator prefix Vtop) with 256 random stimuli in turn,
// weights element-major (PLANES=0, lane_swar) or plane-major (PLANES=1, lane_bitplane), and prints the simulated
// cycles per CPU-second and a checksum of psum over the cycles (equal for both units when they agree).
#include <verilated.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>
#include "Vtop.h"
static const int SIMD = 288, NB = (SIMD + 63) / 64, N = 256;
int main(int argc, char** argv) {
    long cycles = std::atol(argv[1]);
    std::mt19937_64 rng(1);
    std::vector<uint8_t> u(N * SIMD), x(N * SIMD);
    for (auto& v : u) v = rng() & 15;
    for (auto& v : x) v = rng() & 3;
    // per stimulus: w words (element-major nibbles or plane-major), x words
    const int WW = PLANES ? NB * 4 : (SIMD * 4 + 63) / 64, XW = (SIMD * 2 + 63) / 64;
    std::vector<uint64_t> w(N * WW, 0), xv(N * XW, 0);
    for (int n = 0; n < N; n++)
        for (int e = 0; e < SIMD; e++) {
            uint8_t uu = u[n * SIMD + e];
            if (PLANES) { for (int j = 0; j < 4; j++) if (uu >> j & 1) w[n * WW + (e / 64) * 4 + j] |= 1ULL << (e % 64); }
            else w[n * WW + e / 16] |= (uint64_t)uu << (4 * (e % 16));
            xv[n * XW + e / 32] |= (uint64_t)x[n * SIMD + e] << (2 * (e % 32));
        }
    auto top = new Vtop;
    uint64_t sum = 0;
    std::clock_t c0 = std::clock();
    for (long c = 0; c < cycles; c++) {
        int n = c % N;
        for (int i = 0; i < WW; i++) { top->w[2 * i] = (uint32_t)w[n * WW + i]; top->w[2 * i + 1] = (uint32_t)(w[n * WW + i] >> 32); }
        for (int i = 0; i < XW; i++) { top->x[2 * i] = (uint32_t)xv[n * XW + i]; top->x[2 * i + 1] = (uint32_t)(xv[n * XW + i] >> 32); }
        top->clk = 0; top->eval(); top->clk = 1; top->eval();
        if (c >= 16) sum = sum * 31 + top->psum;
    }
    double s = double(std::clock() - c0) / CLOCKS_PER_SEC;
    std::printf("cycles_per_cpu_second %.0f checksum %llu\n", cycles / s, (unsigned long long)sum);
    delete top;
    return 0;
}
