#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <time.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#define MADV_GUARD_INSTALL 102
#define PIDFD_SELF -10000
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e9+t.tv_nsec;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
long page; size_t slot; enum{N=1024};
double run(int method,int batch){
  char*p=mmap(0,slot*N,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE,-1,0);
  static struct iovec iov[N];
  double t0=now();
  if(method==0){ for(int i=0;i<N;i++) if(madvise(p+i*slot,page,MADV_GUARD_INSTALL)) abort(); }
  else if(method==1){ for(int i=0;i<N;i++) if(mprotect(p+i*slot,page,PROT_NONE)) abort(); }
  else if(method==2){ for(int i=0;i<N;i+=batch){ for(int j=0;j<batch;j++){iov[j].iov_base=p+(i+j)*slot;iov[j].iov_len=page;}
      long r=syscall(SYS_process_madvise,PIDFD_SELF,iov,batch,MADV_GUARD_INSTALL,0); if(r!=batch*page){perror("pm");abort();} } }
  else if(method==3){ for(int i=0;i<N;i++) syscall(SYS_getppid); }
  else if(method==4){ for(int i=0;i<N/16;i++){ char buf[4096]; int fd=open("/proc/meminfo",O_RDONLY); read(fd,buf,sizeof buf); close(fd);} }
  double t=now()-t0;
  munmap(p,slot*N);
  return method==4? t/(N/16) : t/N;
}
int main(int argc,char**argv){
  page=sysconf(_SC_PAGESIZE); slot=64*1024+page;
  const char*names[]={"madvise","mprotect","pmadv","getppid","meminfo"};
  int cfg[][2]={{3,1},{0,1},{1,1},{2,1},{2,8},{2,32},{2,64},{2,256},{2,1024},{4,1}};
  int R=15; double v[10][15];
  for(int r=0;r<R;r++) for(int c=0;c<10;c++) v[c][r]=run(cfg[c][0],cfg[c][1]);
  for(int c=0;c<10;c++){ qsort(v[c],R,sizeof(double),cmp); printf("%-8s batch %4d: median %7.0f ns per slot (min %6.0f max %6.0f)\n",names[cfg[c][0]],cfg[c][1],v[c][R/2],v[c][0],v[c][R-1]); }
}
