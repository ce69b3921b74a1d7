# spikeflow's shared Vivado procedures (bitstream_scripts/common.tcl), included in every rendered build script.
namespace eval spikeflow {}

# The -tclargs, checked against their names; a wrong count stops with the usage line.
proc spikeflow::arguments {argv names} {
    if {[llength $argv] != [llength $names]} {
        error "spikeflow: expected -tclargs [join $names { }], got [llength $argv] argument(s): $argv"
    }
    return $argv
}

# Batch, non-project: critical warnings are errors, the project lives in memory (or in project_dir, for the IP
# packager, which needs one on disk).
proc spikeflow::start {part board_part out_dir {project_dir ""}} {
    set_msg_config -severity {CRITICAL WARNING} -new_severity ERROR
    file mkdir $out_dir [file join $out_dir reports]
    if {$project_dir eq ""} {
        create_project -in_memory -part $part
    } else {
        create_project -force -part $part spikeflow_kernel $project_dir
    }
    if {$board_part ne "-"} {
        if {[llength [get_board_parts -quiet $board_part]] == 0} {
            error "spikeflow: board part $board_part is not installed in this Vivado: add its board files\
                   (Xilinx board store) or pass - as BOARD_PART to build without board presets"
        }
        set_property board_part $board_part [current_project]
    }
    set_property target_language Verilog [current_project]
    set fd [open [file join $out_dir vivado_version.txt] w]
    puts $fd [version -short]
    close $fd
}

# Stop at the first error or critical warning a step left behind (a promoted message may not abort the command).
proc spikeflow::check_messages {step} {
    set errors [get_msg_config -count -severity ERROR]
    set critical [get_msg_config -count -severity {CRITICAL WARNING}]
    if {$errors > 0 || $critical > 0} {
        error "spikeflow: $step left $errors error(s) and $critical critical warning(s): see the log above"
    }
}

# Run one implementation step by name, then check the messages.
proc spikeflow::step {name body} {
    puts "spikeflow: step $name"
    uplevel 1 $body
    spikeflow::check_messages $name
}

# Read the sources file list: one path a line, relative to the list; # starts a comment.
# .v -> read_verilog, .sv -> read_verilog -sv, .mem -> read_mem, .xdc -> read_xdc.
proc spikeflow::read_sources {sources_file} {
    set base [file dirname [file normalize $sources_file]]
    set fd [open $sources_file r]
    set lines [split [read $fd] "\n"]
    close $fd
    foreach line $lines {
        set line [string trim $line]
        if {$line eq "" || [string index $line 0] eq "#"} { continue }
        set path [file normalize [file join $base $line]]
        if {![file exists $path]} { error "spikeflow: $path (listed in $sources_file) does not exist" }
        switch -- [file extension $path] {
            .v { read_verilog $path }
            .sv { read_verilog -sv $path }
            .mem { read_mem $path }
            .xdc { read_xdc $path }
            default { error "spikeflow: $path (listed in $sources_file): unknown source type" }
        }
    }
}

# The clock on `pin` must have the build's period (within 0.1%).
proc spikeflow::check_clock {pin clock_mhz} {
    set clocks [get_clocks -quiet -of_objects [get_pins -quiet -hierarchical $pin]]
    if {[llength $clocks] != 1} { error "spikeflow: expected one clock on $pin, found [llength $clocks]" }
    set period [get_property PERIOD $clocks]
    set want [expr {1000.0 / $clock_mhz}]
    if {abs($period - $want) > 0.001 * $want} {
        error "spikeflow: the accelerator clock [get_property NAME $clocks] has a period of $period ns, not\
               $want ns ($clock_mhz MHz)"
    }
    puts "spikeflow: accelerator clock [get_property NAME $clocks]: $period ns ($clock_mhz MHz)"
}

# Utilization and timing reports into OUT_DIR/reports, then negative WNS or WHS fails the build.
proc spikeflow::check_timing {out_dir clock_mhz} {
    set reports [file join $out_dir reports]
    file mkdir $reports
    report_utilization -file [file join $reports utilization.rpt]
    report_timing_summary -max_paths 10 -report_unconstrained -file [file join $reports timing_summary.rpt]
    set setup [get_timing_paths -delay_type max -max_paths 1 -nworst 1]
    set hold [get_timing_paths -delay_type min -max_paths 1 -nworst 1]
    if {[llength $setup] == 0 || [llength $hold] == 0} {
        error "spikeflow: no timed paths after routing: the clock constraint is missing"
    }
    set wns [get_property SLACK $setup]
    set whs [get_property SLACK $hold]
    puts "spikeflow: after routing at $clock_mhz MHz: WNS $wns ns, WHS $whs ns"
    if {$wns < 0} {
        error "spikeflow: timing not met after routing: WNS $wns ns (setup) at $clock_mhz MHz; see\
               $reports/timing_summary.rpt. Lower clock_mhz in the build config or fold the network further"
    }
    if {$whs < 0} {
        error "spikeflow: timing not met after routing: WHS $whs ns (hold) at $clock_mhz MHz; see\
               $reports/timing_summary.rpt"
    }
}
