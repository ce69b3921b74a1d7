// Nearest-neighbour upsampling of a raster stream by FACTOR: input pixel (y, x) of an IN_H x IN_W frame becomes the
// FACTOR x FACTOR block of output pixels (FACTOR*y + i, FACTOR*x + j). Each input row is read once, emitted
// FACTOR times per pixel, kept in a line buffer of IN_W pixels, and emitted FACTOR - 1 more times from it. One
// output pixel per cycle, reading the input at 1/FACTOR^2 of that rate on average; frames follow each other
// without a gap (the output does not depend on the row index, so IN_H only sizes the frame).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_upsample #(
    parameter PIX_W = 8,    // bits per pixel (all channels of one position)
    parameter IN_H = 4,     // input height
    parameter IN_W = 4,     // input width
    parameter FACTOR = 2    // upsampling factor
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [PIX_W-1:0] s_axis_tdata,
    input  wire             s_axis_tvalid,
    output wire             s_axis_tready,
    output reg  [PIX_W-1:0] m_axis_tdata,
    output reg              m_axis_tvalid,
    input  wire             m_axis_tready
);

localparam XW = IN_W > 1 ? $clog2(IN_W) : 1;
localparam FW = FACTOR > 1 ? $clog2(FACTOR) : 1;
localparam integer X_LAST_I = IN_W - 1;
localparam integer F_LAST_I = FACTOR - 1;
localparam [XW-1:0] X_LAST = X_LAST_I[XW-1:0];
localparam [FW-1:0] F_LAST = F_LAST_I[FW-1:0];

initial begin
    if (PIX_W < 1 || IN_H < 1 || IN_W < 1) $error("spikeflow_upsample: PIX_W, IN_H and IN_W must be >= 1");
    if (FACTOR < 1) $error("spikeflow_upsample: FACTOR must be >= 1");
end

reg [XW-1:0] x;       // input column
reg [FW-1:0] xr, yr;  // repeat of the column, of the row
reg [PIX_W-1:0] line [0:IN_W-1];  // the input row, for its repeats
reg [PIX_W-1:0] cur;  // the pixel being repeated along the row

wire take = !m_axis_tvalid || m_axis_tready;  // the output register is free this cycle
wire fresh = yr == 0 && xr == 0;             // the next output is a new input pixel
assign s_axis_tready = take && fresh;
wire emit = take && (!fresh || s_axis_tvalid);
wire [PIX_W-1:0] pix = fresh ? s_axis_tdata : (yr == 0 ? cur : line[x]);

always @(posedge clk) begin
    if (emit) m_axis_tdata <= pix;
    if (emit && fresh) begin
        cur <= s_axis_tdata;
        line[x] <= s_axis_tdata;
    end
end

always @(posedge clk) begin
    if (rst) begin
        m_axis_tvalid <= 1'b0;
        x <= 0;
        xr <= 0;
        yr <= 0;
    end else begin
        if (m_axis_tready) m_axis_tvalid <= 1'b0;
        if (emit) begin
            m_axis_tvalid <= 1'b1;
            if (xr != F_LAST) begin
                xr <= xr + 1'b1;
            end else begin
                xr <= 0;
                if (x != X_LAST) begin
                    x <= x + 1'b1;
                end else begin
                    x <= 0;
                    if (yr != F_LAST) begin
                        yr <= yr + 1'b1;
                    end else begin
                        yr <= 0;
                    end
                end
            end
        end
    end
end

endmodule

`resetall
