// Synchronous-read ROM initialised from a $readmemh file. With OUT_REG=1 the data is available two enabled
// cycles after the address, else one. STYLE picks the storage:
//   "block": block RAM; with OUT_REG=1 the read data passes the RAM's output register (DOA_REG), so nothing
//            combinational follows the RAM's slow clock-to-out;
//   "logic": LUTs: the address is registered (twice with OUT_REG=1) and the word is a function of it, which
//            synthesis merges into the logic that reads it (tiny images: a few words).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_rom #(
    parameter WIDTH = 8,                                  // word width in bits
    parameter DEPTH = 1,                                  // number of words
    parameter ADDR_WIDTH = DEPTH > 1 ? $clog2(DEPTH) : 1, // address width
    parameter OUT_REG = 0,                                // 1: registered output (read latency 2)
    parameter STYLE = "block",                            // "block" or "logic"
    parameter INIT_FILE = ""                              // $readmemh image, DEPTH words of WIDTH bits
) (
    input  wire                  clk,
    input  wire                  en,
    input  wire [ADDR_WIDTH-1:0] addr,
    output wire [WIDTH-1:0]      data
);

initial begin
    if (WIDTH < 1) $error("spikeflow_rom: WIDTH must be >= 1");
    if (DEPTH < 1) $error("spikeflow_rom: DEPTH must be >= 1");
    if ((1 << ADDR_WIDTH) < DEPTH) $error("spikeflow_rom: ADDR_WIDTH too small for DEPTH");
    if (OUT_REG != 0 && OUT_REG != 1) $error("spikeflow_rom: OUT_REG must be 0 or 1");
    if (STYLE != "block" && STYLE != "logic") $error("spikeflow_rom: STYLE must be \"block\" or \"logic\"");
end

generate
    if (STYLE == "logic") begin : g_logic
        (* rom_style = "logic" *)
        reg [WIDTH-1:0] mem [0:DEPTH-1];
        initial begin
            if (INIT_FILE != "") $readmemh(INIT_FILE, mem);
        end
        reg [ADDR_WIDTH-1:0] a1;
        always @(posedge clk) begin
            if (en) a1 <= addr;
        end
        if (OUT_REG) begin : g_reg
            reg [ADDR_WIDTH-1:0] a2;
            always @(posedge clk) begin
                if (en) a2 <= a1;
            end
            assign data = mem[a2];
        end else begin : g_noreg
            assign data = mem[a1];
        end
    end else begin : g_ram
        (* rom_style = "block" *)
        reg [WIDTH-1:0] mem [0:DEPTH-1];
        reg [WIDTH-1:0] rd;
        initial begin
            if (INIT_FILE != "") $readmemh(INIT_FILE, mem);
        end
        always @(posedge clk) begin
            if (en) rd <= mem[addr];
        end
        if (OUT_REG) begin : g_reg
            reg [WIDTH-1:0] rd2;
            always @(posedge clk) begin
                if (en) rd2 <= rd;
            end
            assign data = rd2;
        end else begin : g_noreg
            assign data = rd;
        end
    end
endgenerate

endmodule

`resetall
