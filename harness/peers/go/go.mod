module labgopeer

go 1.19
