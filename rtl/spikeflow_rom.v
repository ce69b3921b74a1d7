// Synchronous-read ROM initialised from a $readmemh file. With OUT_REG=1 the data is available two enabled
// cycles after the address, else one. STYLE picks the storage:
//   "block": block RAM; with OUT_REG=1 the read data passes the RAM's output register (DOA_REG), so nothing
//            combinational follows the RAM's slow clock-to-out;
//   "logic": LUTs: the address is registered (twice with OUT_REG=1) and the word is a function of it, which
//            synthesis merges into the logic that reads it (tiny images: a few words).
// LAYOUT rearranges each image word for the word formulations of spikeflow_lane_sum (simulation only, STYLE
// "logic"). An image word of IMAGE_WIDTH bits holds G = IMAGE_WIDTH / (FIELDS*FIELD_BITS) groups of FIELDS fields
// of FIELD_BITS bits (field f of group g at (g*FIELDS + f)*FIELD_BITS); padding is 0.
//   0 (image):   as it is (WIDTH = IMAGE_WIDTH);
//   1 (diagonals): for fields that meet X_BITS-bit inputs (spikeflow_lane_sum FORM=1): field f's input starts at
//               bit t = f*X_BITS of the group's inputs, in 64-bit word k = t/64; per group and word, ND =
//               FIELD_BITS + X_BITS - 1 diagonals of 64 bits, bit j of field f at ((g*NK + k)*ND + j + m)*64 + t%64 + m
//               for each m < X_BITS, NK = ceil(FIELDS*X_BITS/64); WIDTH = G*NK*ND*64;
//   2 (widened): each field zero-extended to STRIDE bits (64/STRIDE of them per 64-bit word): field f = q*R + i
//               (R = 64/STRIDE) at (g*NW + q)*64 + i*STRIDE, NW = ceil(FIELDS/R); WIDTH = G*NW*64.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_rom #(
    parameter WIDTH = 8,                                  // word width in bits
    parameter DEPTH = 1,                                  // number of words
    parameter ADDR_WIDTH = DEPTH > 1 ? $clog2(DEPTH) : 1, // address width
    parameter OUT_REG = 0,                                // 1: registered output (read latency 2)
    parameter STYLE = "block",                            // "block" or "logic"
    parameter INIT_FILE = "",                             // $readmemh image, DEPTH words of IMAGE_WIDTH bits
    parameter IMAGE_WIDTH = WIDTH,                        // width of the image's words
    parameter LAYOUT = 0,                                 // 0: image, 1: diagonals, 2: widened (above)
    parameter FIELD_BITS = 1,                             // LAYOUT: bits per field
    parameter FIELDS = 1,                                 // LAYOUT: fields per group
    parameter X_BITS = 1,                                 // LAYOUT 1: bits per input (1, 2, 4 or 8)
    parameter STRIDE = 64                                 // LAYOUT 2: bits per widened field
) (
    input  wire                  clk,
    input  wire                  en,
    input  wire [ADDR_WIDTH-1:0] addr,
    output wire [WIDTH-1:0]      data
);

localparam GROUPS = IMAGE_WIDTH / (FIELDS * FIELD_BITS);
localparam NK = (FIELDS * X_BITS + 63) / 64;             // LAYOUT 1: 64-bit input words per group
localparam ND = FIELD_BITS + X_BITS - 1;                 // LAYOUT 1: diagonals per word
localparam PER_WORD = 64 / STRIDE;                       // LAYOUT 2: fields per 64-bit word
localparam NW = (FIELDS + PER_WORD - 1) / PER_WORD;      // LAYOUT 2: words per group
localparam STORED = LAYOUT == 1 ? GROUPS * NK * ND * 64 : LAYOUT == 2 ? GROUPS * NW * 64 : IMAGE_WIDTH;

initial begin
    if (WIDTH < 1) $error("spikeflow_rom: WIDTH must be >= 1");
    if (DEPTH < 1) $error("spikeflow_rom: DEPTH must be >= 1");
    if ((1 << ADDR_WIDTH) < DEPTH) $error("spikeflow_rom: ADDR_WIDTH too small for DEPTH");
    if (OUT_REG != 0 && OUT_REG != 1) $error("spikeflow_rom: OUT_REG must be 0 or 1");
    if (STYLE != "block" && STYLE != "logic") $error("spikeflow_rom: STYLE must be \"block\" or \"logic\"");
    if (LAYOUT < 0 || LAYOUT > 2) $error("spikeflow_rom: LAYOUT must be 0 (image), 1 (diagonals) or 2 (widened)");
    if (LAYOUT != 0 && IMAGE_WIDTH != GROUPS * FIELDS * FIELD_BITS)
        $error("spikeflow_rom: IMAGE_WIDTH must be a whole number of groups of FIELDS fields");
    if (LAYOUT == 1 && 64 % X_BITS != 0) $error("spikeflow_rom: X_BITS must divide 64");
    if (LAYOUT == 2 && (STRIDE < FIELD_BITS || 64 % STRIDE != 0))
        $error("spikeflow_rom: STRIDE must divide 64 and hold a field");
    if (WIDTH != STORED) $error("spikeflow_rom: WIDTH must be %0d for this layout", STORED);
    if (LAYOUT != 0 && STYLE != "logic") $error("spikeflow_rom: LAYOUT 1 and 2 need STYLE \"logic\"");
end

// an image word in LAYOUT 1 (diagonals) or 2 (widened)
function automatic [WIDTH-1:0] arranged(input [IMAGE_WIDTH-1:0] v);
    integer g, f, j, m;
    begin
        arranged = {WIDTH{1'b0}};
        for (g = 0; g < GROUPS; g = g + 1)
            for (f = 0; f < FIELDS; f = f + 1)
                for (j = 0; j < FIELD_BITS; j = j + 1)
                    if (LAYOUT == 1)
                        for (m = 0; m < X_BITS; m = m + 1)
                            arranged[((g*NK + f*X_BITS/64)*ND + j + m)*64 + (f*X_BITS)%64 + m]
                                = v[(g*FIELDS + f)*FIELD_BITS + j];
                    else
                        arranged[(g*NW + f/PER_WORD)*64 + (f%PER_WORD)*STRIDE + j] = v[(g*FIELDS + f)*FIELD_BITS + j];
    end
endfunction

generate
    if (STYLE == "logic") begin : g_logic
        (* rom_style = "logic" *)
        reg [WIDTH-1:0] mem [0:DEPTH-1];
        if (LAYOUT == 0) begin : g_image
            initial begin
                if (INIT_FILE != "") $readmemh(INIT_FILE, mem);
            end
        end else begin : g_arranged
            reg [IMAGE_WIDTH-1:0] image [0:DEPTH-1];
            integer a;
            initial begin
                if (INIT_FILE != "") begin
                    $readmemh(INIT_FILE, image);
                    // a loop, not DEPTH inlined copies of arranged(): unrolled, the harness's C++ was 13 MB and
                    // its build four times as long (Verilator's unroll_disable applies to the loop that follows it)
                    /* verilator unroll_disable */
                    for (a = 0; a < DEPTH; a = a + 1) mem[a] = arranged(image[a]);
                end
            end
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
