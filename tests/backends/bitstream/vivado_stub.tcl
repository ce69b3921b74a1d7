# A stub of the Vivado (and package_xo) Tcl commands spikeflow's build scripts use, for tclsh.
#   tclsh vivado_stub.tcl SCRIPT ARG...   sources SCRIPT with argv = ARG...
# Each call is appended to $SPIKEFLOW_STUB_LOG as one JSON line {"cmd", "args"[, "dict"]}. Commands outside this
# vocabulary are Tcl errors, so a script that calls something the stub does not know fails its test.
# Environment: SPIKEFLOW_STUB_WNS / _WHS (slack after routing, default 0.412 / 0.031), SPIKEFLOW_STUB_CRITICAL
# (critical warnings get_msg_config reports, default 0), SPIKEFLOW_STUB_REPORTS (folder of the report texts).

set stub(log) [open $env(SPIKEFLOW_STUB_LOG) a]
set stub(reports) $env(SPIKEFLOW_STUB_REPORTS)
set stub(wns) [expr {[info exists env(SPIKEFLOW_STUB_WNS)] ? $env(SPIKEFLOW_STUB_WNS) : 0.412}]
set stub(whs) [expr {[info exists env(SPIKEFLOW_STUB_WHS)] ? $env(SPIKEFLOW_STUB_WHS) : 0.031}]
set stub(critical) [expr {[info exists env(SPIKEFLOW_STUB_CRITICAL)] ? $env(SPIKEFLOW_STUB_CRITICAL) : 0}]
set stub(part) ""
set stub(freq) ""
set stub(bd_dir) ""
namespace eval ipx {}

proc json_str {s} {
    return "\"[string map [list \\ \\\\ \" \\\" \n \\n \r \\r \t \\t] $s]\""
}

proc record {cmd args} {
    global stub
    set items {}
    foreach a $args { lappend items [json_str $a] }
    set line "{\"cmd\": [json_str $cmd], \"args\": \[[join $items {, }]\]"
    set i [lsearch -exact $args -dict]
    if {$i >= 0} {
        set pairs {}
        foreach {k v} [lindex $args [expr {$i + 1}]] { lappend pairs "[json_str $k]: [json_str $v]" }
        append line ", \"dict\": {[join $pairs {, }]}"
    }
    puts $stub(log) "$line}"
    flush $stub(log)
}

proc option {args name {default ""}} {
    set i [lsearch -exact $args $name]
    return [expr {$i >= 0 ? [lindex $args [expr {$i + 1}]] : $default}]
}

# commands that only record (and return their last argument, like an object query would)
foreach cmd {
    set_msg_config read_verilog read_mem read_xdc update_compile_order create_bd_cell
    apply_bd_automation connect_bd_net connect_bd_intf_net assign_bd_address validate_bd_design save_bd_design
    make_wrapper synth_design opt_design place_design phys_opt_design route_design add_files
    get_bd_cells get_bd_pins get_bd_intf_pins get_bd_addr_spaces get_bd_addr_segs get_files get_board_parts
    ipx::package_project ipx::current_core ipx::associate_bus_interfaces ipx::get_bus_interfaces
    ipx::get_ports ipx::add_bus_parameter ipx::get_bus_parameters ipx::save_core ipx::check_integrity
    ipx::create_xgui_files ipx::update_checksums ipx::unload_core set_false_path close_project
} {
    proc $cmd {args} [format {record %s {*}$args; return [lindex $args end]} $cmd]
}

proc version {args} { record version {*}$args; return "2023.2" }
proc current_project {args} { record current_project {*}$args; return project_1 }
proc current_fileset {args} { record current_fileset {*}$args; return sources_1 }

proc create_project {args} {
    global stub
    record create_project {*}$args
    set stub(part) [option $args -part]
}

proc set_property {args} {
    global stub
    record set_property {*}$args
    if {[lindex $args 0] eq "-dict" && [lindex $args end] eq "clk_wiz"} {
        foreach {k v} [lindex $args 1] {
            if {$k eq "CONFIG.CLKOUT1_REQUESTED_OUT_FREQ"} { set stub(freq) $v }
        }
    }
}

proc create_bd_design {args} {
    global stub
    record create_bd_design {*}$args
    set stub(bd_dir) [file join [option $args -dir] [lindex $args end]]
}

proc generate_target {args} {
    global stub
    record generate_target {*}$args
    set name [file tail $stub(bd_dir)]
    file mkdir [file join $stub(bd_dir) hw_handoff]
    set fd [open [file join $stub(bd_dir) hw_handoff $name.hwh] w]
    puts $fd "<?xml version=\"1.0\"?><EDKSYSTEM><!-- stub hardware handoff --></EDKSYSTEM>"
    close $fd
}

proc get_msg_config {args} {
    global stub
    record get_msg_config {*}$args
    return [expr {[option $args -severity] eq "CRITICAL WARNING" ? $stub(critical) : 0}]
}

proc get_pins {args} { record get_pins {*}$args; return [lindex $args end] }
proc get_clocks {args} { record get_clocks {*}$args; return clk_out1_spikeflow_bd_clk_wiz_0 }
proc get_timing_paths {args} {
    record get_timing_paths {*}$args
    return [expr {[option $args -delay_type] eq "min" ? "path_min" : "path_max"}]
}

proc get_property {args} {
    global stub
    record get_property {*}$args
    lassign $args name object
    switch -- $name {
        SLACK { return [expr {$object eq "path_min" ? $stub(whs) : $stub(wns)}] }
        PERIOD { return [format %.3f [expr {1000.0 / $stub(freq)}]] }
        NAME { return $object }
        default { return "" }
    }
}

proc report_utilization {args} {
    global stub
    record report_utilization {*}$args
    set family [expr {[string match xc7* $stub(part)] ? "xc7" : "xcup"}]
    file copy -force [file join $stub(reports) utilization_$family.rpt] [option $args -file]
}

proc report_timing_summary {args} {
    global stub
    record report_timing_summary {*}$args
    set fd [open [file join $stub(reports) timing_summary.rpt.in]]
    set text [read $fd]
    close $fd
    set freq [expr {$stub(freq) eq "" ? 100.0 : $stub(freq)}]
    set period [expr {1000.0 / $freq}]
    set met [expr {$stub(wns) >= 0 && $stub(whs) >= 0}]
    set text [string map [list @WNS@ [format %.3f $stub(wns)] @WHS@ [format %.3f $stub(whs)] \
        @TNS@ [format %.3f [expr {min(0.0, $stub(wns) * 17)}]] @TNSN@ [expr {$stub(wns) < 0 ? 17 : 0}] \
        @VERDICT@ [expr {$met ? "All user specified timing constraints are met." : "Timing constraints are not met."}] \
        @PERIOD@ [format %.3f $period] @HALF@ [format %.3f [expr {$period / 2}]] @FREQ@ [format %.3f $freq]] $text]
    set fd [open [option $args -file] w]
    puts -nonewline $fd $text
    close $fd
}

proc write_bitstream {args} {
    record write_bitstream {*}$args
    set fd [open [lindex $args end] w]
    puts $fd "stub bitstream"
    close $fd
}

proc package_xo {args} {
    record package_xo {*}$args
    set fd [open [option $args -xo_path] w]
    puts $fd "stub xo"
    close $fd
}

set script [lindex $argv 0]
set argv [lrange $argv 1 end]
set argc [llength $argv]
set argv0 $script
if {[catch {source $script} message]} {
    puts "ERROR: $message"
    exit 1
}
