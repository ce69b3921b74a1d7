// Two heads' value streams -> one output stream: per frame all of input 0's values (passed through, or from a FIFO
// when DEPTH0 > 0), then all of input 1's (from a FIFO), TLAST on input 1's last value. Several heads are merged by a
// chain of these: head 0 with head 1, that stream with head 2, ... (spikeflow_top), so a frame on m_axis is the
// heads' values one head after the other in IR order, each head as a single head's stream (spikeflow/hw/stream.py).
//
// Input 1 is buffered in a FIFO of DEPTH values that takes input 1's values whenever it has room, independently of
// the output: DEPTH must hold one whole frame of input 1's values. Why that cannot deadlock, and why less can: the
// heads hang off one shared trunk, and a fork hands each item to all its branches before it takes the next. Input
// 0's last value of frame n may need the trunk's last positions of frame n, which the fork hands out only once
// every branch has taken the positions before them, so in the worst case (no buffering on input 1's path) all of
// input 1's values of frame n must have left that path by then: DEPTH >= input 1's values per frame. With DEPTH
// values it never stalls input 1 before input 0's frame is through: the FIFO holds at most frame n's values while
// the output is on input 0's frame n, since input 1 can only produce frame n+1 values once the trunk is past frame
// n, that is once input 0 has all it needs for frame n. While the FIFO drains, input 1's path needs nothing more of
// frame n from the trunk.
//
// Input 0 passed through (DEPTH0 = 0) waits while input 1's FIFO drains: its next frame stalls on the output, and
// with it head 0's branch and, through the fork, the shared trunk, so a frame takes about the trunk's interval plus
// the drain. The first merge of the chain (the one that takes head 0) therefore buffers input 0 too, in a FIFO of
// DEPTH0 = one frame of head 0's values that also takes its values whenever it has room: the trunk runs on while
// the output drains input 1, and the steady state is the slowest stage (the output stage: all heads' values per
// frame, spikeflow/hw/cycles.py). More buffering cannot deadlock. Later merges pass their input 0 (the merged
// stream, itself from FIFOs) through.
//
// Each FIFO is a synchronous-read memory (block RAM / EBR) and one output register: DEPTH = DEPTH-1 memory words +
// the register. The output passes a skid buffer, so m_axis_tready only reaches flip-flops.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module spikeflow_head_merge #(
    parameter DATA_WIDTH = 16, // bits of one (signed) value on both inputs
    parameter OUT_WIDTH = 16,  // m_axis_tdata bits: values sign-extended, >= DATA_WIDTH
    parameter DEPTH = 16,      // values input 1's FIFO holds (memory DEPTH-1 + output register): one frame of input 1
    parameter DEPTH0 = 0       // 0: input 0 passed through; else values input 0's FIFO holds: one frame of input 0
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire [2*DATA_WIDTH-1:0] s_axis_tdata,   // input i at [i*DATA_WIDTH +: DATA_WIDTH]
    input  wire [1:0]              s_axis_tvalid,
    output wire [1:0]              s_axis_tready,
    input  wire [1:0]              s_axis_tlast,   // the last value of input i's frame
    output wire [OUT_WIDTH-1:0]    m_axis_tdata,
    output wire                    m_axis_tvalid,
    input  wire                    m_axis_tready,
    output wire                    m_axis_tlast
);

initial begin
    if (DATA_WIDTH < 2 || OUT_WIDTH < DATA_WIDTH) $error("spikeflow_head_merge: need 2 <= DATA_WIDTH <= OUT_WIDTH");
    if (DEPTH < 2) $error("spikeflow_head_merge: DEPTH must be >= 2");
    if (DEPTH0 == 1) $error("spikeflow_head_merge: DEPTH0 must be 0 or >= 2");
end

reg phase;       // 0: on input 0's frame, 1: on input 1's
wire out_ready;  // the skid buffer's (a flip-flop)

// per input i: the value the output would take next ({tlast, value}), whether there is one, and whether it is taken
wire [2*(DATA_WIDTH+1)-1:0] head;
wire [1:0] head_valid;
wire [1:0] take = {phase && head_valid[1] && out_ready, !phase && head_valid[0] && out_ready};

genvar i;
generate
    for (i = 0; i < 2; i = i + 1) begin : g_in
        localparam integer D = i == 0 ? DEPTH0 : DEPTH;
        if (D == 0) begin : g_pass
            assign head[i*(DATA_WIDTH+1) +: DATA_WIDTH+1] = {s_axis_tlast[i], s_axis_tdata[i*DATA_WIDTH +: DATA_WIDTH]};
            assign head_valid[i] = s_axis_tvalid[i];
            assign s_axis_tready[i] = !phase && out_ready;  // i == 0 only (DEPTH >= 2)
        end else begin : g_fifo
            // memory with a registered read, then the output register q
            localparam integer MEM = D - 1;
            localparam integer AW = MEM > 1 ? $clog2(MEM) : 1;
            localparam integer CW = $clog2(MEM + 1);
            localparam integer MEM_LAST_I = MEM - 1;
            localparam [AW-1:0] MEM_LAST = MEM_LAST_I[AW-1:0];
            localparam [CW-1:0] MEM_FULL = MEM[CW-1:0];

            reg [DATA_WIDTH:0] mem [0:MEM-1];  // {tlast, value}
            reg [AW-1:0] wr_ptr;
            reg [AW-1:0] rd_ptr;
            reg [CW-1:0] count;  // words in the memory
            reg [DATA_WIDTH:0] q;
            reg q_valid;

            wire mem_write = s_axis_tvalid[i] && count != MEM_FULL;
            wire mem_read = count != 0 && (!q_valid || take[i]);

            assign s_axis_tready[i] = count != MEM_FULL;
            assign head[i*(DATA_WIDTH+1) +: DATA_WIDTH+1] = q;
            assign head_valid[i] = q_valid;

            always @(posedge clk) begin
                if (mem_write) mem[wr_ptr] <= {s_axis_tlast[i], s_axis_tdata[i*DATA_WIDTH +: DATA_WIDTH]};
                if (mem_read) q <= mem[rd_ptr];
            end

            always @(posedge clk) begin
                if (rst) begin
                    wr_ptr <= 0;
                    rd_ptr <= 0;
                    count <= 0;
                    q_valid <= 1'b0;
                end else begin
                    if (mem_write) wr_ptr <= wr_ptr == MEM_LAST ? {AW{1'b0}} : wr_ptr + 1'b1;
                    if (mem_read) rd_ptr <= rd_ptr == MEM_LAST ? {AW{1'b0}} : rd_ptr + 1'b1;
                    if (mem_write && !mem_read) count <= count + 1'b1;
                    else if (mem_read && !mem_write) count <= count - 1'b1;
                    if (mem_read) q_valid <= 1'b1;
                    else if (take[i]) q_valid <= 1'b0;
                end
            end
        end
    end
endgenerate

// -- the output: input 0's frame, then input 1's ----------------------------------------------------------------
wire [DATA_WIDTH:0] sel = phase ? head[DATA_WIDTH+1 +: DATA_WIDTH+1] : head[0 +: DATA_WIDTH+1];
wire [DATA_WIDTH-1:0] value = sel[DATA_WIDTH-1:0];
wire out_valid = head_valid[phase];
wire out_last = phase && sel[DATA_WIDTH];
// sign-extended (DATA_WIDTH >= 2): the sign bit repeated over the top OUT_WIDTH-DATA_WIDTH+1 bits
wire [OUT_WIDTH-1:0] out_data = {{(OUT_WIDTH-DATA_WIDTH+1){value[DATA_WIDTH-1]}}, value[DATA_WIDTH-2:0]};

always @(posedge clk) begin
    if (rst) phase <= 1'b0;
    else if (take[0] && sel[DATA_WIDTH]) phase <= 1'b1;
    else if (take[1] && sel[DATA_WIDTH]) phase <= 1'b0;
end

spikeflow_axis_skid #(.DATA_WIDTH(OUT_WIDTH + 1))
    u_skid (.clk(clk), .rst(rst), .s_axis_tdata({out_last, out_data}), .s_axis_tvalid(out_valid),
            .s_axis_tready(out_ready), .m_axis_tdata({m_axis_tlast, m_axis_tdata}), .m_axis_tvalid(m_axis_tvalid),
            .m_axis_tready(m_axis_tready));

endmodule

`resetall
