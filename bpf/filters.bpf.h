/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The live filters every object shares (user space hands the first object's map fds
 * to the others): the PID, UID and cgroup sets and their switches. Included by
 * common.bpf.h and by the packet programs, which do not take the rest of it.
 */
#ifndef ECAPTOP_BPF_FILTERS_BPF_H
#define ECAPTOP_BPF_FILTERS_BPF_H

/* Live filter switches: [0] = PID filter on, [1] = UID filter on. A map, not a global,
 * because every object must see the same switch and user space flips it while capture runs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} filter_on SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} pid_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} uid_filter SEC(".maps");

/* --cgroup: the cgroup v2 ids (kernfs ids: the directories' inode numbers) whose
 * processes, and those of the cgroups below them, are traced; cgroup_on[0] switches
 * the filter on. Maps, as the PID/UID filter, so every object sees one set and user
 * space may change it live. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u8);
} cgroup_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_on SEC(".maps");

#endif
