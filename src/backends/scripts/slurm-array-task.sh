dirs=("$@"); dir=${dirs[$SLURM_ARRAY_TASK_ID]}; exec >>"$dir/run.log" 2>&1; exec bash "$dir/job.sbatch"
