#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#define MADV_GUARD_INSTALL 102
#define PIDFD_SELF -10000
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e9+t.tv_nsec;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
long page; size_t slot; enum{N=4096};
static struct iovec iov[1024];
double run(int method,int batch){
  char*p=mmap(0,slot*N,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE,-1,0);
  double t0=now();
  for(int i=0;i<N;i++){
    char*lo=p+i*slot;
    if(method==1) madvise(lo,page,MADV_GUARD_INSTALL);
    else if(method==2) mprotect(lo,page,PROT_NONE);
    else if(method==3 && i%batch==0){ int k=batch; if(i+k>N)k=N-i; for(int j=0;j<k;j++){iov[j].iov_base=p+(i+j)*slot;iov[j].iov_len=page;}
      if(syscall(SYS_process_madvise,PIDFD_SELF,iov,k,MADV_GUARD_INSTALL,0)!=k*page) abort(); }
    // the coroutine's first frame: touch the top page of the stack
    ((volatile char*)lo)[slot-64]=1;
  }
  double t=now()-t0;
  munmap(p,slot*N);
  return t/N;
}
int main(){
  page=sysconf(_SC_PAGESIZE); slot=64*1024+page;
  const char*names[]={"no guard","madvise","mprotect","pmadv"};
  int cfg[][2]={{0,1},{1,1},{2,1},{3,16},{3,64},{3,256}};
  enum{C=6,R=21}; double v[C][R];
  for(int r=0;r<R;r++) for(int c=0;c<C;c++) v[c][r]=run(cfg[c][0],cfg[c][1]);
  for(int c=0;c<C;c++){ qsort(v[c],R,sizeof(double),cmp); printf("%-9s batch %4d + touch: median %6.0f ns per stack (min %6.0f max %6.0f)\n",names[cfg[c][0]],cfg[c][1],v[c][R/2],v[c][0],v[c][R-1]); }
}
