// UART transmitter, 8N1: one start bit (0), 8 data bits LSB first, one stop bit (1); the line idles high.
// Every bit lasts exactly CLKS_PER_BIT clock cycles. s_ready is high while idle: a byte offered then (s_valid) is
// taken on that clock edge, and the next one can follow right after its stop bit.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_uart_tx #(
    parameter CLKS_PER_BIT = 217  // clock cycles per bit: the clock frequency / the baud rate, at least 1
) (
    input  wire       clk,
    input  wire       rst,      // synchronous, active high
    input  wire [7:0] s_data,   // byte to send
    input  wire       s_valid,  // s_data is offered
    output wire       s_ready,  // idle: the byte offered is taken on this edge
    output wire       tx        // the serial line
);

localparam CW = CLKS_PER_BIT > 1 ? $clog2(CLKS_PER_BIT) : 1;  // bits of the bit-time counter
localparam integer LAST_I = CLKS_PER_BIT - 1;
localparam [CW-1:0] LAST = LAST_I[CW-1:0];

initial begin
    if (CLKS_PER_BIT < 1) $error("spikeflow_uart_tx: CLKS_PER_BIT must be >= 1 (a clock slower than the baud rate)");
end

reg [9:0]    shift;      // {stop, data, start}, sent from bit 0; ones shift in behind the stop bit
reg [3:0]    bits_left;  // bits still on or to go on the line; 0: idle
reg [CW-1:0] count;      // cycles left of the current bit, minus one

assign s_ready = bits_left == 4'd0;
assign tx = shift[0];

always @(posedge clk) begin
    if (rst) begin
        shift <= 10'h3ff;
        bits_left <= 4'd0;
        count <= {CW{1'b0}};
    end else if (bits_left == 4'd0) begin
        if (s_valid) begin
            shift <= {1'b1, s_data, 1'b0};
            bits_left <= 4'd10;
            count <= LAST;
        end
    end else if (count != {CW{1'b0}}) begin
        count <= count - 1'b1;
    end else begin
        shift <= {1'b1, shift[9:1]};
        bits_left <= bits_left - 4'd1;
        count <= LAST;
    end
end

endmodule

`resetall
