# A stub of the Vitis HLS Tcl commands that spikeflow's run_hls.tcl calls, for tclsh: each command appends one
# line to LOG (the command and its arguments, separated by the ASCII unit separator) and does nothing else.
# csynth_design also writes a csynth.xml copied from $::env(SPIKEFLOW_STUB_CSYNTH_XML) when that is set.
#
# usage: tclsh vitis_hls_stub.tcl LOG SCRIPT [SCRIPT ARGS...]

set stub_log [lindex $argv 0]
set stub_script [lindex $argv 1]
set argv [lrange $argv 2 end]
set argc [llength $argv]
set stub_fd [open $stub_log w]
set stub_project ""
set stub_solution ""
set stub_top ""

proc stub_record {args} {
    puts $::stub_fd [join $args "\x1f"]
    flush $::stub_fd
}

# The first argument that is not an option: the project or solution name.
proc stub_name {arguments} { return [lindex [lsearch -all -inline -not -glob $arguments -*] 0] }

proc open_project {args} { stub_record open_project {*}$args; set ::stub_project [stub_name $args] }
proc set_top {args} { stub_record set_top {*}$args; set ::stub_top [lindex $args end] }
proc add_files {args} { stub_record add_files {*}$args }
proc open_solution {args} { stub_record open_solution {*}$args; set ::stub_solution [stub_name $args] }
proc set_part {args} { stub_record set_part {*}$args }
proc create_clock {args} { stub_record create_clock {*}$args }
proc set_directive_interface {args} { stub_record set_directive_interface {*}$args }
proc csim_design {args} { stub_record csim_design {*}$args }
proc cosim_design {args} { stub_record cosim_design {*}$args }
proc export_design {args} { stub_record export_design {*}$args }
proc csynth_design {args} {
    stub_record csynth_design {*}$args
    if {[info exists ::env(SPIKEFLOW_STUB_CSYNTH_XML)]} {
        set dir [file join $::stub_project $::stub_solution syn report]
        file mkdir $dir
        file copy -force $::env(SPIKEFLOW_STUB_CSYNTH_XML) [file join $dir "${::stub_top}_csynth.xml"]
    }
}

rename exit stub_real_exit
proc exit {{code 0}} {
    stub_record exit $code
    close $::stub_fd
    stub_real_exit $code
}

source $stub_script
