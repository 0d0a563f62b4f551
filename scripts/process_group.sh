# Sourced by the scripts that start servers in their own session (setsid) and stop them by
# process group: local_stack.sh, mlflow_server.sh.

group_alive() {  # group_alive PGID: a process of that group still runs (zombies excepted)
  local stat fields
  for stat in /proc/[0-9]*/stat; do
    read -r fields < "$stat" 2>/dev/null || continue
    fields=(${fields##*) })  # after "pid (comm) ": state ppid pgrp ...
    if [ "${fields[2]:-}" = "$1" ] && [ "${fields[0]:-}" != Z ]; then return 0; fi
  done
  return 1
}

kill_group() {  # kill_group PGID: SIGKILL the group, return once its processes are gone
  # A killed process holds its port until the kernel has torn it down, which takes a
  # moment on a busy machine: a caller that checks or reuses the port must wait for that.
  local _
  kill -KILL -- "-$1" 2>/dev/null || true
  for _ in $(seq 1 40); do group_alive "$1" || return 0; sleep 0.5; done
  return 1
}
