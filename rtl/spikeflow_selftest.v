// Self-test top of the accelerator for a board without a frame source (the ECP5 place-and-route top): it feeds
// spikeflow_top FRAMES generated frames back to back, folds every output value into a CRC-32, compares it with
// EXPECTED_CRC (from the golden model, spikeflow.backends.pnr.selftest.expected_crc), lights led_pass or led_fail
// and prints one line on the UART.
//
// Frames: a 32-bit Galois LFSR, shifting right with the feedback mask 32'h80200003 (x^32 + x^22 + x^2 + x + 1,
// maximal length): step(s) = (s >> 1) ^ (s[0] ? 32'h80200003 : 0). It starts from SEED at every run and steps
// once per pixel byte; each byte is bits 7:0 of the state after its step. The bytes fill the input stream in order
// (frame after frame, HWC raster order, channels interleaved, byte 0 of a beat in the low bits), so the frames do
// not depend on the pixels per beat. TLAST on the last beat of each frame. Python: selftest_frames.
// CRC: CRC-32 of IEEE 802.3 (reflected, polynomial 32'hEDB88320, register initialised to 32'hFFFFFFFF, final xor
// 32'hFFFFFFFF) over the bytes of all output values of the run, in stream order, each 32-bit value as 4
// little-endian bytes: zlib.crc32 of the output payload. One value is folded per clock cycle.
// cycles: clock edges from the first input beat's handshake to the last output value's (their difference).
// The run passes when the CRC equals EXPECTED_CRC and the accelerator counted no malformed frame.
// UART (8N1, CLK_HZ / BAUD rounded to the nearest cycle per bit), once the last value is in:
//   "SPKF crc=XXXXXXXX frames=N cycles=N pass\r\n" ("fail" instead of "pass"; 8 lowercase hex digits, decimal
//   counts without leading zeros). Python: uart_line.
// LEDs: led_busy from reset until the line's last stop bit is out; led_pass or led_fail lights when the last value
// is in and stays lit. The wrapper stays done until rst; a run starts by itself after configuration (an internal
// power-on reset of 16 cycles) and again after each rst. rst is synchronised here (two flip-flops), so a button
// can drive it. The output stream is always ready.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_selftest #(
    parameter FRAMES = 8,               // frames generated per run (1 .. 2^32-1)
    parameter [31:0] SEED = 32'h1,      // LFSR seed (not 0)
    parameter [31:0] EXPECTED_CRC = 0,  // CRC-32 of all output values of the run (from the golden model)
    parameter CLK_HZ = 25000000,        // clk frequency in Hz
    parameter BAUD = 115200,            // UART bit rate
    parameter IN_WIDTH = 24,            // spikeflow_top's s_axis_tdata bits (the build's stream format)
    parameter BEATS_PER_FRAME = 65536   // input beats per frame (the build's stream format)
) (
    input  wire clk,
    input  wire rst,        // synchronous, active high (a button): restarts the run
    output wire led_pass,   // the run is done and its CRC matched
    output wire led_fail,   // the run is done and its CRC did not match (or a frame was malformed)
    output wire led_busy,   // the run or its UART line is under way
    output wire uart_tx     // 8N1 at BAUD
);

localparam OUT_WIDTH = 32;     // spikeflow_top's m_axis_tdata bits (the stream contract)
localparam STATUS_WIDTH = 32;  // bits of spikeflow_top's error counter
localparam BEAT_BYTES = IN_WIDTH / 8;
localparam [31:0] POLY = 32'h80200003;  // LFSR feedback mask (right shift)
localparam [31:0] CRC_POLY = 32'hEDB88320;
localparam CLKS_PER_BIT = (CLK_HZ + BAUD / 2) / BAUD;
localparam BW = BEATS_PER_FRAME > 1 ? $clog2(BEATS_PER_FRAME) : 1;  // bits of the beat-in-frame counter
localparam integer LAST_BEAT_I = BEATS_PER_FRAME - 1;
localparam [BW-1:0] LAST_BEAT = LAST_BEAT_I[BW-1:0];
localparam integer LAST_FRAME_I = FRAMES - 1;
localparam [31:0] LAST_FRAME = LAST_FRAME_I[31:0];
localparam LINE_CHARS = 60;  // characters of LINE (positions 0..59), leading zeros not yet suppressed

initial begin
    if (FRAMES < 1) $error("spikeflow_selftest: FRAMES must be >= 1");
    if (SEED == 32'd0) $error("spikeflow_selftest: SEED must not be 0 (the LFSR would stay 0)");
    if (IN_WIDTH < 8 || IN_WIDTH % 8 != 0) $error("spikeflow_selftest: IN_WIDTH must be whole pixel bytes");
    if (BEATS_PER_FRAME < 1) $error("spikeflow_selftest: BEATS_PER_FRAME must be >= 1");
    if (BAUD < 1 || CLKS_PER_BIT < 1) $error("spikeflow_selftest: CLK_HZ must be at least BAUD");
end

function [31:0] lfsr_step(input [31:0] s);
    lfsr_step = (s >> 1) ^ (s[0] ? POLY : 32'd0);
endfunction

// {state after the beat, the beat's bytes} from the state before it
function [IN_WIDTH+31:0] gen_beat(input [31:0] s);
    integer i;
    reg [31:0] x;
    reg [IN_WIDTH-1:0] data;
    begin
        x = s;
        data = {IN_WIDTH{1'b0}};
        for (i = 0; i < BEAT_BYTES; i = i + 1) begin
            x = lfsr_step(x);
            data[8*i +: 8] = x[7:0];
        end
        gen_beat = {x, data};
    end
endfunction

// the CRC register after one 32-bit value (4 little-endian bytes, bit 0 first)
function [31:0] crc_word(input [31:0] c, input [31:0] w);
    integer i;
    reg [31:0] x;
    begin
        x = c ^ w;
        for (i = 0; i < 32; i = i + 1) x = (x >> 1) ^ (x[0] ? CRC_POLY : 32'd0);
        crc_word = x;
    end
endfunction

// ten BCD digits of a constant (digit 0 in bits 3:0)
/* verilator lint_off UNUSEDSIGNAL */
function [39:0] to_bcd(input integer v);
    integer d, r, q;
    begin
        r = v;
        to_bcd = 40'd0;
        for (d = 0; d < 10; d = d + 1) begin
            q = r % 10;
            to_bcd[4*d +: 4] = q[3:0];
            r = r / 10;
        end
    end
endfunction
/* verilator lint_on UNUSEDSIGNAL */

// one double-dabble step on {ten BCD digits, binary}: add 3 to digits >= 5, then shift left
function [71:0] dabble(input [71:0] x);
    integer d;
    reg [71:0] y;
    begin
        y = x;
        for (d = 0; d < 10; d = d + 1)
            if (y[32 + 4*d +: 4] >= 4'd5) y[32 + 4*d +: 4] = y[32 + 4*d +: 4] + 4'd3;
        dabble = y << 1;
    end
endfunction

localparam [39:0] FRAMES_BCD = to_bcd(FRAMES);
// the line; # marks a character filled in below (58, 59: CR LF)
localparam [8*LINE_CHARS-1:0] LINE = "SPKF crc=######## frames=########## cycles=########## pass##";
localparam [31:0] FAIL_WORD = "fail";

// ---- reset: power-on (16 cycles) or the synchronised button ------------------------------------------------------
// The initial values are the configuration values of the flip-flops (an FPGA has no reset before this one).
/* verilator lint_off PROCASSINIT */
reg [3:0] por = 4'd0;
reg [1:0] rst_sync = 2'b11;
// rst_i, the reset of the accelerator and of everything here, is a flip-flop: it fans out to every stage of the
// accelerator across the chip, and through the OR and the counter compare before it, it was the routed default's
// critical path (nextpnr: por -> u_accelerator.rst -> a window generator's line buffer address, 9.8 ns)
reg rst_i = 1'b1;
/* verilator lint_on PROCASSINIT */
always @(posedge clk) begin
    rst_sync <= {rst_sync[0], rst};
    if (por != 4'hf) por <= por + 4'd1;
    rst_i <= rst_sync[1] || por != 4'hf;
end

// ---- input frames ------------------------------------------------------------------------------------------------
reg [IN_WIDTH-1:0] in_data;
reg [31:0]         in_state;   // LFSR state after the bytes of in_data
reg                in_valid;
reg [BW-1:0]       in_beat;
reg [31:0]         in_frame;
wire               in_ready;
wire               in_fire = in_valid && in_ready;

always @(posedge clk) begin
    if (rst_i) begin
        {in_state, in_data} <= gen_beat(SEED);
        in_valid <= 1'b1;
        in_beat <= {BW{1'b0}};
        in_frame <= 32'd0;
    end else if (in_fire) begin
        {in_state, in_data} <= gen_beat(in_state);
        if (in_beat == LAST_BEAT) begin
            in_beat <= {BW{1'b0}};
            in_frame <= in_frame + 32'd1;
            if (in_frame == LAST_FRAME) in_valid <= 1'b0;
        end else begin
            in_beat <= in_beat + 1'b1;
        end
    end
end

// ---- the accelerator -------------------------------------------------------------------------------------------
wire [OUT_WIDTH-1:0]    out_data;
wire                    out_valid;
wire                    out_last;
wire                    frame_error;
wire [STATUS_WIDTH-1:0] error_count;

spikeflow_top #(
    .IN_WIDTH(IN_WIDTH),
    .OUT_WIDTH(OUT_WIDTH),
    .STATUS_WIDTH(STATUS_WIDTH)
) u_accelerator (
    .clk(clk), .rst(rst_i),
    .s_axis_tdata(in_data), .s_axis_tvalid(in_valid), .s_axis_tready(in_ready),
    .s_axis_tlast(in_beat == LAST_BEAT),
    .m_axis_tdata(out_data), .m_axis_tvalid(out_valid), .m_axis_tready(1'b1), .m_axis_tlast(out_last),
    .status_frame_error(frame_error), .status_error_count(error_count)
);

// ---- outputs: CRC and cycles -------------------------------------------------------------------------------------
localparam [2:0] RUN = 3'd0, LOAD = 3'd1, CONVERT = 3'd2, PRINT = 3'd3, DONE = 3'd4;
reg [2:0]  phase;
reg [31:0] crc;
reg [31:0] out_frame;
reg        started;
reg        counting;
reg [31:0] cycles;
wire       last_value = phase == RUN && out_valid && out_last && out_frame == LAST_FRAME;

always @(posedge clk) begin
    if (rst_i) begin
        crc <= 32'hffffffff;
        out_frame <= 32'd0;
        started <= 1'b0;
        counting <= 1'b0;
        cycles <= 32'd0;
    end else begin
        if (phase == RUN && out_valid) begin
            crc <= crc_word(crc, out_data);
            if (out_last) out_frame <= out_frame + 32'd1;
        end
        if (in_fire && !started) begin
            started <= 1'b1;
            counting <= 1'b1;
        end else if (counting) begin
            cycles <= cycles + 32'd1;
            if (last_value) counting <= 1'b0;
        end
    end
end

// ---- result, decimal conversion and the UART line ------------------------------------------------------------------
reg        done;
reg        pass;
reg [71:0] conv;       // {BCD digits of cycles, binary left to convert}
reg [5:0]  conv_step;
reg [5:0]  pos;        // character of LINE
reg        seen;       // a digit of the current number was sent (the rest are not leading zeros)
wire [31:0] crc_final = ~crc;
wire [39:0] cycles_bcd = conv[71:32];
wire        tx_ready;

// the character at pos: LINE, with the CRC, the counts and pass/fail filled in
wire [5:0] rpos = 6'd59 - pos;
wire [5:0] hex_i = 6'd16 - pos;     // nibble of the CRC at positions 9..16
wire [5:0] frames_i = 6'd34 - pos;  // digit of FRAMES at 25..34
wire [5:0] cycles_i = 6'd52 - pos;  // digit of cycles at 43..52
wire [5:0] word_i = 6'd57 - pos;    // letter of pass/fail at 54..57
wire       in_hex = pos >= 6'd9 && pos <= 6'd16;
wire       in_frames = pos >= 6'd25 && pos <= 6'd34;
wire       in_cycles = pos >= 6'd43 && pos <= 6'd52;
wire [3:0] nibble = crc_final[{hex_i[2:0], 2'b00} +: 4];
wire [3:0] digit = in_frames ? FRAMES_BCD[{frames_i[3:0], 2'b00} +: 4] : cycles_bcd[{cycles_i[3:0], 2'b00} +: 4];
wire       is_digit = in_frames || in_cycles;
wire       skip = is_digit && digit == 4'd0 && !seen && pos != 6'd34 && pos != 6'd52;  // a leading zero
reg  [7:0] char;
always @* begin
    char = LINE[{rpos, 3'b000} +: 8];
    if (in_hex) char = nibble < 4'd10 ? 8'h30 + {4'd0, nibble} : 8'h57 + {4'd0, nibble};
    else if (is_digit) char = 8'h30 + {4'd0, digit};
    else if (pos >= 6'd54 && pos <= 6'd57 && !pass) char = FAIL_WORD[{word_i[1:0], 3'b000} +: 8];
    else if (pos == 6'd58) char = 8'h0d;
    else if (pos == 6'd59) char = 8'h0a;
end
wire tx_valid = phase == PRINT && !skip;

always @(posedge clk) begin
    if (rst_i) begin
        phase <= RUN;
        done <= 1'b0;
        pass <= 1'b0;
        conv <= 72'd0;
        conv_step <= 6'd0;
        pos <= 6'd0;
        seen <= 1'b0;
    end else begin
        case (phase)
            RUN: if (last_value) phase <= LOAD;
            LOAD: begin  // crc and cycles hold their final values now
                done <= 1'b1;
                pass <= crc_final == EXPECTED_CRC && error_count == {STATUS_WIDTH{1'b0}};
                conv <= {40'd0, cycles};
                conv_step <= 6'd0;
                phase <= CONVERT;
            end
            CONVERT: begin
                conv <= dabble(conv);
                conv_step <= conv_step + 6'd1;
                if (conv_step == 6'd31) phase <= PRINT;
            end
            PRINT: if (skip || tx_ready) begin
                if (!skip) seen <= is_digit;
                pos <= pos + 6'd1;
                if (pos == 6'd59) phase <= DONE;
            end
            default: ;
        endcase
    end
end

spikeflow_uart_tx #(
    .CLKS_PER_BIT(CLKS_PER_BIT)
) u_uart (
    .clk(clk), .rst(rst_i), .s_data(char), .s_valid(tx_valid), .s_ready(tx_ready), .tx(uart_tx)
);

assign led_busy = phase != DONE || !tx_ready;  // until the line's last stop bit is out
assign led_pass = done && pass;
assign led_fail = done && !pass;

// the per-frame error pulse (error_count is checked), the binary half of conv once converted, index high bits
/* verilator lint_off UNUSEDSIGNAL */
wire unused = &{1'b0, frame_error, conv[31:0], hex_i[5:3], frames_i[5:4], cycles_i[5:4], word_i[5:2]};
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
